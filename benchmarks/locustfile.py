"""Locust users for benchmarks/load_test.py (county staff and a provincial official).

Only ever pointed at 127.0.0.1 (the runner starts the server itself).
"""

from __future__ import annotations

import os
import random
import re

from locust import HttpUser, between, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "load-test-2020")
SEARCHES = ["5201010010", "户主", "1234", "520101002"]


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
        self.client.get(f"/monitoring/households/?q={random.choice(SEARCHES)}", name="household search")

    @task(1)
    def household_list_page(self) -> None:
        self.client.get(f"/monitoring/households/?page={random.randint(1, 200)}", name="household list page")

    @task(2)
    def dashboard(self) -> None:
        self.client.get(os.environ.get("LOAD_DASHBOARD_URL", "/dashboard/"), name="dashboard (county)")


class ProvincialOfficial(_Staff):
    weight = 1
    username = "load-province"

    @task
    def dashboard(self) -> None:
        self.client.get(os.environ.get("LOAD_DASHBOARD_URL", "/dashboard/"), name="dashboard (province)")
