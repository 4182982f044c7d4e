"""Department alerts (部门预警, SPEC §6): matching, writing, and the 医保 settlement path.

One home for every alert rule, whichever way an alert comes in — the API, an Excel upload (the
import kinds ``alerts`` and ``medical`` are thin adapters over these services) or a 医保 extract:

- ``dates``: how far back and forward 预警日期 and 结算年度 may lie;
- ``matching``: the submitting unit, the alert key, the member an alert is matched to;
- ``expenditures``: the rigid expenditure an alert records (and owns) in the one ledger;
- ``writing``: the upsert, the system's negative ids for extract alerts, the DEPARTMENT_ALERT leads;
- ``submit``: the API's batches (idempotency keys);
- ``medical``: 医保 settlement lines, judged against the thresholds, sent as alerts.

The import package calls these; nothing here imports the import package.
"""

from monitoring.services.alerts.dates import ALERT_MAX_AGE_YEARS, alert_date_error, settlement_year_error
from monitoring.services.alerts.medical import (
    SettlementBatch,
    SettlementOutcome,
    medical_settlements_submit,
    medical_settlements_write,
    medical_submit_refusal,
)
from monitoring.services.alerts.submit import MAX_BATCH, AlertOutcome, alerts_submit, alerts_write

__all__ = [
    "ALERT_MAX_AGE_YEARS",
    "MAX_BATCH",
    "AlertOutcome",
    "SettlementBatch",
    "SettlementOutcome",
    "alert_date_error",
    "alerts_submit",
    "alerts_write",
    "medical_settlements_submit",
    "medical_settlements_write",
    "medical_submit_refusal",
    "settlement_year_error",
]
