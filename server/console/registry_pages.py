"""Console pages: registry_pages."""

from fastapi import APIRouter

router = APIRouter()
