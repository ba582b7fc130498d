import json

from django.contrib import admin
from django.utils.html import format_html

from designer import services
from designer.models import Workflow, WorkflowGrant, WorkflowVersion


class VersionInline(admin.TabularInline):
    model = WorkflowVersion
    fields = ["number", "author", "note", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-number"]
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class GrantInline(admin.TabularInline):
    model = WorkflowGrant
    extra = 0
    autocomplete_fields = ["user", "group"]


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "latest_version", "archived", "updated_at"]
    list_filter = ["archived"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["latest_version", "created_at", "updated_at"]
    inlines = [GrantInline, VersionInline]

    def save_model(self, request, obj: Workflow, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "archived" in form.changed_data:
            # Archiving reaches beyond the row (its schedule stops, its webhook answers 404):
            # through the service that tells them, as the API's archive does.
            services.do_set_archived(actor=request.user, workflow=obj, archived=obj.archived)


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(admin.ModelAdmin):
    """Read-only: a version is never edited (saving the workflow writes a new one)."""

    list_display = ["workflow", "number", "author", "note", "created_at"]
    search_fields = ["workflow__name", "note"]
    fields = ["workflow", "number", "author", "note", "created_at", "graph_view"]
    readonly_fields = fields

    @admin.display(description="graph")
    def graph_view(self, version: WorkflowVersion) -> str:
        return format_html("<pre>{}</pre>", json.dumps(version.graph, indent=2))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
