"""Typed request parameters shared by the console's routes: ids and page numbers the database can hold, so an
out-of-range number is a 422, never a database overflow."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Form, Path, Query

MAX_ID = 2**31 - 1  # a PostgreSQL INTEGER: no row has a larger id
MAX_PAGE = 100_000

RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
RowIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
RowIdForm = Annotated[int, Form(ge=1, le=MAX_ID)]
PageNo = Annotated[int, Query(ge=1, le=MAX_PAGE)]

# An id typed into a form field read by hand (not through a typed parameter).
ROW_ID = re.compile(r"[1-9][0-9]{0,8}")
