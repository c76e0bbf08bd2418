"""Pagination for every list (kept apart from api.base: DRF imports it while loading generics)."""
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Always on. The cap on page_size is one of the controls against bulk copying."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
