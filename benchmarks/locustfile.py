"""Locust users for benchmarks/load_test.py (county staff and a provincial official).

Only ever pointed at 127.0.0.1 (the runner starts the server itself).
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable

from locust import HttpUser, between, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "load-test-2020")
# benchmarks/lead_queue.py's data: household ids LOAD_COUNTY_IDS ("first-last", set by load_test.py) are
# county 520101 (villages 520101TTTVVV, T 001-020, V 001-010); 户编号 "B" + village code + 5 digits;
# the 户主 of household n is "户主n" with 身份证号 "52" + n on 16 digits.
_first, _last = (int(n) for n in os.environ.get("LOAD_COUNTY_IDS", "1-100000").split("-"))


def _county_id() -> int:
    return random.randint(_first, _last)


def _id_number(n: int) -> str:
    return f"52{n:016d}"


# (name, hit?, term maker): what an office worker types, with and without a match in county 520101
SEARCHES: list[tuple[str, bool, Callable[[], str]]] = [
    ("户编号 prefix (hit: a village)", True, lambda: f"B520101{random.randint(1, 20):03d}{random.randint(1, 10):03d}"),
    ("户编号 (zero-hit)", False, lambda: f"B5299{random.randint(0, 99999):05d}"),
    ("name prefix (hit)", True, lambda: f"户主{_county_id()}"),
    ("name (zero-hit)", False, lambda: random.choice(["王芳", "李明", "张伟", "刘洋", "陈静"])),
    ("身份证号 (hit)", True, lambda: _id_number(_county_id())),
    ("身份证号 last 4 (hit)", True, lambda: f"{random.randint(0, 9999):04d}"),
    ("身份证号 (zero-hit)", False, lambda: f"5299{random.randint(0, 10**14 - 1):014d}"),
]


class _Staff(HttpUser):
    abstract = True
    wait_time = between(0.5, 1.5)
    username = ""

    def on_start(self) -> None:
        page = self.client.get("/accounts/login/", name="login form")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, "no CSRF token on the login page"
        response = self.client.post(
            "/accounts/login/",
            {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
            name="login",
            allow_redirects=False,
        )
        if response.status_code != 302:
            response.failure(f"login failed: {response.status_code}")


class CountyStaff(_Staff):
    weight = 3
    username = "load-county"

    @task(3)
    def lead_queue(self) -> None:
        self.client.get("/monitoring/leads/", name="lead queue")

    @task(1)
    def lead_queue_overdue(self) -> None:
        self.client.get("/monitoring/leads/?overdue=1", name="lead queue (overdue)")

    @task(3)
    def household_search(self) -> None:
        name, _hit, term = random.choice(SEARCHES)
        self.client.get("/monitoring/households/", params={"q": term()}, name=f"household search: {name}")

    @task(1)
    def household_list_page(self) -> None:
        self.client.get(f"/monitoring/households/?page={random.randint(1, 200)}", name="household list page")

    @task(2)
    def dashboard(self) -> None:
        self.client.get(os.environ.get("LOAD_DASHBOARD_URL", "/dashboard/"), name="dashboard (county)")


class ProvincialOfficial(_Staff):
    weight = 1
    username = "load-province"

    @task(3)
    def dashboard(self) -> None:
        self.client.get(os.environ.get("LOAD_DASHBOARD_URL", "/dashboard/"), name="dashboard (province)")

    @task(1)
    def household_search(self) -> None:
        # the whole province (1 000 000 households): a zero-hit search used to walk all of them
        _name, hit, term = random.choice(SEARCHES)
        kind = "hit" if hit else "zero-hit"
        self.client.get("/monitoring/households/", params={"q": term()}, name=f"household search (province): {kind}")

    @task(1)
    def api_households_of_a_county(self) -> None:
        county = f"5201{random.randint(1, 19):02d}000000"
        self.client.get("/api/v1/households/", params={"county": county}, name="API households (province, ?county=)")
