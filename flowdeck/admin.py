"""The admin's audit log: Django writes a LogEntry (who, when, what, which fields) for every
addition, change and deletion made through the admin site; this shows them, read-only."""

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.http import HttpRequest


@admin.register(LogEntry)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["action_time", "user", "action", "content_type", "object_repr", "changes"]
    list_filter = ["action_flag", "content_type"]
    search_fields = ["object_repr", "change_message", "user__username"]
    date_hierarchy = "action_time"
    list_select_related = ["user", "content_type"]
    fields = [
        "action_time",
        "user",
        "action",
        "content_type",
        "object_id",
        "object_repr",
        "changes",
    ]
    readonly_fields = fields

    @admin.display(description="action", ordering="action_flag")
    def action(self, entry: LogEntry) -> str:
        return {1: "added", 2: "changed", 3: "deleted"}.get(entry.action_flag, "?")

    @admin.display(description="changes")
    def changes(self, entry: LogEntry) -> str:
        return entry.get_change_message()

    # The record of what staff did is not theirs to write or rewrite.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LogEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: LogEntry | None = None) -> bool:
        return False
