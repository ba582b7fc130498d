"""Definitions: Workflow and WorkflowVersion arrive with the workflow-definitions issue."""
