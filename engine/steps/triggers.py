"""How runs start: by hand or API, on a schedule, on a webhook."""

from connectors.kinds import CredentialKind
from engine.steps.base import (
    CREDENTIAL_NAME,
    HEADER_NAME,
    PRIORITY,
    StepContext,
    StepResult,
    StepType,
    object_schema,
)


class ManualTrigger(StepType):
    """Starts a run from the UI, the API or the CLI; the input is checked against input_schema."""

    type_name = "trigger.manual"
    title = "Manual start"
    category = "trigger"
    description = (
        "Starts the workflow by hand, through the API or the CLI. The input is validated "
        "against the workflow's input_schema."
    )
    is_trigger = True
    config_schema = object_schema({})
    runnable = True

    def run(self, ctx: StepContext) -> StepResult:
        # The input was checked against input_schema when the run was started.
        return StepResult(output=ctx.scope["input"])


class ScheduleTrigger(StepType):
    """Starts a run each time a cron expression fires in a time zone, with a fixed input.

    The firing is engine/schedules.py's (the sweeper); the node itself passes the input on."""

    type_name = "trigger.schedule"
    title = "Schedule"
    category = "trigger"
    description = (
        "Starts the workflow on a cron schedule in a time zone. "
        "Every run gets the same fixed input."
    )
    is_trigger = True
    config_schema = object_schema(
        {
            "priority": PRIORITY,
            "cron": {
                "type": "string",
                "format": "cron",
                "title": "Cron expression",
                "description": (
                    "Five fields: minute, hour, day of month, month, day of week; "
                    "e.g. 0 9 * * 1-5 for 9:00 on weekdays."
                ),
                "minLength": 1,
                "maxLength": 200,
            },
            "timezone": {
                "type": "string",
                "format": "timezone",
                "title": "Time zone",
                "description": (
                    "The IANA time zone the cron expression is read in, e.g. Europe/Paris."
                ),
                "default": "UTC",
                "minLength": 1,
                "maxLength": 64,
            },
            "input": {
                "type": "object",
                "title": "Run input",
                "description": "The input of every scheduled run, checked against input_schema.",
                "default": {},
            },
            "enabled": {
                "type": "boolean",
                "title": "Enabled",
                "description": "When off, the schedule starts no runs until it is turned back on.",
                "default": True,
            },
            "catch_up": {
                "type": "string",
                "enum": ["skip", "latest", "all"],
                "title": "Missed runs",
                "description": (
                    "What to do about times missed while Flowdeck was down: skip them, run the "
                    "latest one once, or run them all (up to the catch-up limit)."
                ),
                "default": "skip",
            },
            "catch_up_limit": {
                "type": "integer",
                "title": "Catch-up limit",
                "description": (
                    "With missed runs set to all, how many missed times run at most; "
                    "the oldest are dropped."
                ),
                "minimum": 1,
                "maximum": 1000,
                "default": 10,
            },
            "overlap": {
                "type": "string",
                "enum": ["allow", "skip", "queue"],
                "title": "Overlap",
                "description": (
                    "When the previous scheduled run is still going: start anyway, skip this time, "
                    "or queue it until the previous one ends."
                ),
                "default": "allow",
            },
        },
        required=["cron"],
    )
    runnable = True

    def run(self, ctx: StepContext) -> StepResult:
        # The schedule's fixed input, checked against input_schema when the slot fired.
        return StepResult(output=ctx.scope["input"])


class WebhookTrigger(StepType):
    """Starts a run on POST /api/hooks/<token>/ with the request's JSON body as input."""

    type_name = "trigger.webhook"
    title = "Webhook"
    category = "trigger"
    credential_fields = {"signature.secret_credential": (CredentialKind.SECRET,)}
    description = (
        "Starts the workflow when a JSON body is POSTed to its secret URL; the body is the input. "
        "Requests may also be required to carry a signature."
    )
    is_trigger = True
    runnable = True
    config_schema = object_schema(
        {
            "priority": PRIORITY,
            "signature": {
                **object_schema(
                    {
                        "secret_credential": {
                            **CREDENTIAL_NAME,
                            "title": "Secret credential",
                            "description": (
                                "The name of the credential holding the shared secret; "
                                "never the secret itself."
                            ),
                        },
                        "header": {
                            **HEADER_NAME,
                            "title": "Signature header",
                            "description": "The request header carrying the signature.",
                            "default": "X-Flowdeck-Signature",
                        },
                        "timestamp_header": {
                            **HEADER_NAME,
                            "title": "Timestamp header",
                            "description": (
                                "The request header carrying the signing time (Unix seconds), "
                                "which is part of what is signed."
                            ),
                            "default": "X-Flowdeck-Timestamp",
                        },
                        "tolerance_s": {
                            "type": "integer",
                            "title": "Tolerance (seconds)",
                            "description": (
                                "How far the timestamp may be from the server's clock; older "
                                "requests are refused as replays. 0 turns the check off."
                            ),
                            "minimum": 0,
                            "maximum": 86_400,
                            "default": 300,
                        },
                    },
                    required=["secret_credential"],
                ),
                "title": "Signature",
                "description": (
                    "When set, requests must be signed with the credential's secret; "
                    "otherwise the secret URL alone admits them."
                ),
            },
            "max_body_bytes": {
                "type": "integer",
                "title": "Maximum body size (bytes)",
                "description": "Larger requests are refused with 413.",
                "minimum": 1,
                "maximum": 10_485_760,
                "default": 1_048_576,
            },
        },
    )

    def run(self, ctx: StepContext) -> StepResult:
        # The request's body, checked against input_schema before the run started
        # (webhooks/receive.py); the request itself (headers, token) never reaches the run.
        return StepResult(output=ctx.scope["input"])
