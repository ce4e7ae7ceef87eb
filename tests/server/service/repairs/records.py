"""A repair order signed off and waiting for its callback, with its price-list line, for tests that need records of
the service desk in an estate (the authorisation matrix)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import Channel, Estate, Role, ServiceKind, Unit
from server.domain import staff
from server.domain.actors import SYSTEM
from server.domain.service import intake, prices, repairs
from server.domain.service.intake import OrderRequest

PASSWORD = "correct-horse-1"
SIGNATURE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
)


@dataclass(frozen=True)
class RepairRecords:
    order_id: int  # returned: its callback waits in the queue
    task_id: int
    item_id: int
    engineer_id: int


def repair_records(db: Session, estate: Estate, unit: Unit, code: str) -> RepairRecords:
    desk = staff.create_user(
        db, SYSTEM, username=f"svcdesk_{code}", display_name="服务台", role=Role.front_desk, password=PASSWORD,
        estates=[estate],
    )  # fmt: skip
    engineer = staff.create_user(
        db, SYSTEM, username=f"eng_{code}", display_name="维修工", role=Role.engineering, password=PASSWORD,
        estates=[estate],
    )  # fmt: skip
    at = utcnow() - timedelta(hours=2)
    line = prices.PriceLine(ServiceKind.repair, "tap-leak", "plumbing", "水龙头维修", 3000)
    item = prices.add_item(db, SYSTEM, estate, line, at)
    request = OrderRequest(
        kind=ServiceKind.repair, channel=Channel.desk, unit_id=unit.id, contact_name="住户", item_code="tap-leak"
    )
    order = intake.open_order(db, SYSTEM, estate, request, at, by=desk)
    repairs.assign(db, SYSTEM, order, engineer.id, at, by=engineer)
    repairs.schedule(db, SYSTEM, order, at, at + timedelta(hours=1), at, by=engineer)
    repairs.start(db, SYSTEM, order, at, by=engineer)
    done = repairs.Completion("好", True, SIGNATURE, "维修工")
    repairs.finish(db, SYSTEM, order, done, at, by=engineer)
    task = repairs.sign_off(db, SYSTEM, order, at, by=engineer)
    db.flush()
    return RepairRecords(order.id, task.id, item.id, engineer.id)
