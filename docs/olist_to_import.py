"""Map the Olist e-commerce reviews (Kaggle, "Brazilian E-Commerce Public Dataset by Olist") to
the columns of `manage.py import_responses`.

    python docs/olist_to_import.py OLIST_DIR olist-import.csv
    python manage.py import_responses olist-import.csv --survey olist --rejects olist-rejects.csv

review_answer_timestamp → submitted_at (São Paulo time, so the offset is added), review_score →
score (1-5), title and message → comment, the order → touchpoint_id (one answer per order),
customer_unique_id → customer_id, the customer's state → attr.state, the order's status →
attr.order_status.
"""

import csv
import sys
from pathlib import Path


def rows_by(path: Path, key: str) -> dict[str, dict]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return {row[key]: row for row in csv.DictReader(f)}


def main(source: Path, target: Path) -> None:
    orders = rows_by(source / "olist_orders_dataset.csv", "order_id")
    customers = rows_by(source / "olist_customers_dataset.csv", "customer_id")
    with (
        (source / "olist_order_reviews_dataset.csv").open(newline="", encoding="utf-8-sig") as f,
        target.open("w", newline="", encoding="utf-8") as out,
    ):
        writer = csv.writer(out)
        writer.writerow(
            [
                "submitted_at",
                "score",
                "comment",
                "customer_id",
                "touchpoint_type",
                "touchpoint_id",
                "attr.state",
                "attr.order_status",
            ]
        )
        for review in csv.DictReader(f):
            order = orders.get(review["order_id"], {})
            customer = customers.get(order.get("customer_id", ""), {})
            title = review["review_comment_title"].strip()
            message = review["review_comment_message"].strip()
            writer.writerow(
                [
                    review["review_answer_timestamp"] + "-03:00",
                    review["review_score"],
                    f"{title}\n{message}" if title and message else title or message,
                    customer.get("customer_unique_id", ""),
                    "purchase",
                    review["order_id"],
                    customer.get("customer_state", ""),
                    order.get("order_status", ""),
                ]
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
