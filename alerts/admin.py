from django.contrib import admin
from django.db import models

from alerts.models import Alert, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "workflow", "enabled", "cooldown_s"]
    exclude = ["webhook_secret"]
    # A webhook URL typed without a scheme is https (Django 6's default; 5.2 warns).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["id", "rule", "key", "opened_at", "resolved_at", "sends"]
