from typing import Any

from rest_framework import pagination

from flowdeck.params import int_param


class StrictPageSize:
    """``page_size`` must be a positive integer (400 naming it otherwise, where DRF would
    silently use the default); above ``max_page_size`` it is capped, as DRF does."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Any) -> int:
        size = int_param(request.query_params, self.page_size_query_param, minimum=1)
        return self.page_size if size is None else min(size, self.max_page_size)


class PageNumberPagination(StrictPageSize, pagination.PageNumberPagination):
    def get_page_number(self, request: Any, paginator: Any) -> Any:
        """A page is a positive number or ``last``: anything else (an empty ``page=`` too,
        which DRF reads as the first page) is a 400 naming it."""
        text = request.query_params.get(self.page_query_param)
        if text is None or text in self.last_page_strings:
            return super().get_page_number(request, paginator)
        return int_param(request.query_params, self.page_query_param, minimum=1)
