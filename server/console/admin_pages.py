"""Console pages: admin_pages."""

from fastapi import APIRouter

router = APIRouter()
