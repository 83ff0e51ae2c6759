"""Orders with an outbox: v1 and v2 creation, listings and reads, and payment, which writes the order.paid event in
the same transaction (paying again with the same transaction_id replays it: at-least-once delivery)."""

import uuid

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Query, Response
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field

from .. import db
from .auth import Auth
from .common import EmailStr, check_uuid


class ItemIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(default="Item", max_length=200)
    quantity: int = Field(ge=1, le=1000)
    unit_price: float | None = Field(default=None, ge=0)
    unit_price_cents: int | None = Field(default=None, ge=0)


class OrderIn(BaseModel):
    items: list[ItemIn] = Field(min_length=1)
    customer_email: EmailStr | None = None


def load_order(conn, order_id: str, user: dict, lock: bool = False) -> dict:
    check_uuid(order_id, "Order")
    with conn.cursor(row_factory=dict_row) as cur:
        o = cur.execute("SELECT * FROM orders WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                        (order_id,)).fetchone()
        if not o or (user["role"] == "customer" and str(o["user_id"]) != str(user["id"])):
            raise HTTPException(404, "Order not found")
        o["items"] = cur.execute("SELECT sku, name, quantity, unit_price_cents FROM order_items "
                                 "WHERE order_id = %s ORDER BY id", (order_id,)).fetchall()
        o["payment"] = cur.execute("SELECT transaction_id, amount_cents, payment_method, created_at "
                                   "FROM payments WHERE order_id = %s ORDER BY created_at LIMIT 1",
                                   (order_id,)).fetchone()
    return o


def order_v1(o: dict) -> dict:
    return {"id": str(o["id"]), "user_id": str(o["user_id"]), "customer_email": o["customer_email"],
            "status": o["status"], "total": round(o["total_cents"] / 100, 2), "currency": o["currency"],
            "items": [{"sku": i["sku"], "name": i["name"], "quantity": i["quantity"],
                       "unit_price": round(i["unit_price_cents"] / 100, 2)} for i in o["items"]],
            "transaction_id": o["payment"]["transaction_id"] if o.get("payment") else None,
            "created_at": o["created_at"], "paid_at": o["paid_at"]}


def order_v2(o: dict) -> dict:
    return {"id": str(o["id"]), "customer": {"id": str(o["user_id"]), "email": o["customer_email"]},
            "status": o["status"], "total_cents": o["total_cents"], "currency": o["currency"],
            "items": [dict(i) for i in o["items"]],
            "payment": o.get("payment"), "created_at": o["created_at"], "paid_at": o["paid_at"]}


class PayIn(BaseModel):
    transaction_id: str | None = Field(default=None, min_length=1, max_length=100)
    payment_method: str = "card"
    amount: float | None = None


def emit_paid(conn, o: dict, tx: str, replay: bool = False) -> None:
    payload = {"order_id": str(o["id"]), "transaction_id": tx, "user_id": str(o["user_id"]),
               "customer_email": o["customer_email"], "total_cents": o["total_cents"],
               "currency": o["currency"], "replay": replay,
               "items": [{"sku": i["sku"], "name": i["name"], "quantity": i["quantity"],
                          "unit_price_cents": i["unit_price_cents"]} for i in o["items"]]}
    conn.execute("INSERT INTO outbox_events (event_type, aggregate_id, payload) VALUES ('order.paid', %s, %s)",
                 (str(o["id"]), Jsonb(payload)))


def router(pool: db.Pool, auth: Auth) -> APIRouter:
    routes = APIRouter()
    current_user = auth.current_user

    def create_order(body: OrderIn, user: dict) -> dict:
        total = 0
        items = []
        for it in body.items:
            cents = it.unit_price_cents if it.unit_price_cents is not None else \
                int(round((it.unit_price or 0) * 100))
            total += cents * it.quantity
            items.append((it.sku, it.name, it.quantity, cents))
        with pool.transaction(user["id"], user["role"]) as conn:
            oid = conn.execute("INSERT INTO orders (user_id, customer_email, total_cents) VALUES (%s, %s, %s) "
                               "RETURNING id", (user["id"], body.customer_email or user["email"], total)).fetchone()[0]
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO order_items (order_id, sku, name, quantity, unit_price_cents) "
                                "VALUES (%s, %s, %s, %s, %s)", [(oid, *i) for i in items])
            return load_order(conn, str(oid), user)

    @routes.post("/api/v1/orders", status_code=201, tags=["orders"])
    def post_order(body: OrderIn, user: dict = Depends(current_user)):
        return order_v1(create_order(body, user))

    @routes.post("/api/v2/orders", status_code=201, tags=["v2"])
    def post_order_v2(body: OrderIn, user: dict = Depends(current_user)):
        return {"data": order_v2(create_order(body, user))}

    def list_orders(user: dict, limit: int, offset: int) -> tuple[list[dict], int]:
        with pool.transaction(user["id"], user["role"]) as conn:
            cond, args = ("user_id = %s", [user["id"]]) if user["role"] == "customer" else ("true", [])
            total = conn.execute(f"SELECT count(*) FROM orders WHERE {cond}", args).fetchone()[0]
            ids = conn.execute(f"SELECT id FROM orders WHERE {cond} ORDER BY created_at DESC LIMIT %s OFFSET %s",
                               [*args, limit, offset]).fetchall()
            return [load_order(conn, str(i[0]), user) for i in ids], total

    @routes.get("/api/v1/orders", tags=["orders"])
    def get_orders(page: int = Query(1, ge=1), page_size: int = Query(20, ge=1, le=100),
                   user: dict = Depends(current_user)):
        rows, total = list_orders(user, page_size, (page - 1) * page_size)
        return {"items": [order_v1(o) for o in rows], "total": total, "page": page, "page_size": page_size}

    @routes.get("/api/v2/orders", tags=["v2"])
    def get_orders_v2(limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0),
                      user: dict = Depends(current_user)):
        rows, total = list_orders(user, limit, offset)
        return {"data": [order_v2(o) for o in rows], "meta": {"total": total, "limit": limit, "offset": offset}}

    @routes.get("/api/v1/orders/{order_id}", tags=["orders"])
    def get_order(order_id: str, user: dict = Depends(current_user)):
        with pool.transaction(user["id"], user["role"]) as conn:
            return order_v1(load_order(conn, order_id, user))

    @routes.get("/api/v2/orders/{order_id}", tags=["v2"])
    def get_order_v2(order_id: str, user: dict = Depends(current_user)):
        with pool.transaction(user["id"], user["role"]) as conn:
            return {"data": order_v2(load_order(conn, order_id, user))}

    @routes.post("/api/v1/orders/{order_id}/pay", tags=["orders"])
    def pay(order_id: str, body: PayIn | None = None, user: dict = Depends(current_user)):
        body = body or PayIn()
        tx = body.transaction_id or f"tx-{uuid.uuid4().hex[:16]}"
        with pool.transaction(user["id"], user["role"]) as conn:
            o = load_order(conn, order_id, user, lock=True)
            if o["status"] == "paid":
                if o["payment"] and o["payment"]["transaction_id"] == tx:
                    # the payment provider's at-least-once callback: the event is emitted again (a replay)
                    emit_paid(conn, o, tx, replay=True)
                    return {**order_v1(o), "replayed": True}
                raise HTTPException(409, "Order is already paid")
            if o["status"] != "pending":
                raise HTTPException(409, f"Order is {o['status']}")
            if body.amount is not None and int(round(body.amount * 100)) != o["total_cents"]:
                raise HTTPException(422, "Payment amount does not match the order total")
            try:
                with conn.transaction():
                    conn.execute("INSERT INTO payments (order_id, transaction_id, amount_cents, payment_method) "
                                 "VALUES (%s, %s, %s, %s)", (order_id, tx, o["total_cents"], body.payment_method))
            except psycopg.errors.UniqueViolation:
                raise HTTPException(409, "transaction_id was already used for another order")
            conn.execute("UPDATE orders SET status = 'paid', paid_at = now() WHERE id = %s", (order_id,))
            o = load_order(conn, order_id, user)
            emit_paid(conn, o, tx)
            return {**order_v1(o), "replayed": False}

    @routes.delete("/api/v1/orders/{order_id}", status_code=204, tags=["orders"])
    def delete_order(order_id: str, user: dict = Depends(current_user)):
        """Remove a test order and what it caused (its payment, notifications and events): how a post-deploy
        check cleans up after itself. Customers may remove their own orders, admins any."""
        with pool.transaction(user["id"], user["role"]) as conn:
            load_order(conn, order_id, user)  # 404 for another customer's order
            if user["role"] not in ("admin", "customer"):
                raise HTTPException(403, "Only the order's customer or an admin may remove it")
            conn.execute("SELECT set_config('app.user_role', 'service', true)")
            conn.execute("DELETE FROM notification_duplicates WHERE transaction_id IN "
                         "(SELECT transaction_id FROM payments WHERE order_id = %s)", (order_id,))
            conn.execute("DELETE FROM notifications WHERE order_id = %s", (order_id,))
            conn.execute("DELETE FROM outbox_events WHERE aggregate_id = %s", (order_id,))
            conn.execute("DELETE FROM payments WHERE order_id = %s", (order_id,))
            conn.execute("DELETE FROM order_items WHERE order_id = %s", (order_id,))
            conn.execute("DELETE FROM orders WHERE id = %s", (order_id,))
        return Response(status_code=204)

    return routes
