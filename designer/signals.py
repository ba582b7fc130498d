"""What the designer tells other apps, without importing them (it never imports the engine).

Both are sent inside the transaction of the change, so a receiver's writes commit or roll back
with it: a schedule is re-planned, and a webhook token issued, exactly when the version exists.
"""

from django.dispatch import Signal

# A version was saved (created with its workflow, or added). kwargs: workflow, version, actor.
version_saved = Signal()

# A workflow was archived or restored (``workflow.archived`` says which). kwargs: workflow, actor.
archived_changed = Signal()
