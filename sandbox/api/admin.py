"""Operations routes: replaying a payment's order.paid event (admin) and the outbox queue statistics."""

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from .. import db
from .auth import Auth
from .orders import emit_paid, load_order


class ReplayIn(BaseModel):
    transaction_id: str


def router(pool: db.Pool, auth: Auth) -> APIRouter:
    routes = APIRouter()

    @routes.post("/api/v1/admin/events/replay", status_code=202, tags=["admin"])
    def replay(body: ReplayIn, user: dict = Depends(auth.admin_only)):
        with pool.transaction(user["id"], user["role"]) as conn:
            row = conn.execute("SELECT order_id FROM payments WHERE transaction_id = %s",
                               (body.transaction_id,)).fetchone()
            if not row:
                raise HTTPException(404, "No payment with that transaction_id")
            o = load_order(conn, str(row[0]), user)
            emit_paid(conn, o, body.transaction_id, replay=True)
        return {"message": "order.paid event replayed", "transaction_id": body.transaction_id,
                "order_id": str(row[0])}

    @routes.get("/api/v1/queues/stats", tags=["admin"])
    def queue_stats(user: dict = Depends(auth.staff_or_admin)):
        with pool.connection() as conn:
            rows = conn.execute("SELECT topic, status, count(*) FROM outbox_events GROUP BY topic, status").fetchall()
            oldest = conn.execute("SELECT extract(epoch FROM now() - min(created_at)) FROM outbox_events "
                                  "WHERE status = 'pending'").fetchone()[0]
            conn.commit()
        queues: dict[str, dict] = {}
        for topic, st, n in rows:
            queues.setdefault(topic, {"pending": 0, "processed": 0, "failed": 0})[st] = n
        return {"queues": queues, "consumer_group": "notification-service",
                "lag": sum(q["pending"] for q in queues.values()),
                "oldest_pending_seconds": float(oldest) if oldest is not None else 0.0}

    return routes
