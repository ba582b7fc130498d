from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from designer import transfer
from flowdeck.nul import has_nul


class YAMLParser(BaseParser):
    """YAML request bodies, read with yaml.safe_load only."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = transfer.load(stream.read(), "yaml")
        except transfer.ImportError_ as exc:
            raise ParseError(str(exc)) from None
        if has_nul(data):  # "\0" in YAML: PostgreSQL cannot keep it
            raise ParseError("the document may not contain the character U+0000")
        return data
