"""What must hold after the load, checked against what the server answered and what its database holds."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bson import ObjectId

from contactgraph.events.outbox import NOT_IN_SNAPSHOTS
from contactgraph.ids import decode_any

from .client import Outcomes
from .receiver import Receipt
from .subscribers import Subscriber
from .workload import Ledger, Workspace

SAMPLE = 5  # offending items shown per check
CONTACT_EVENTS = {
    "contact.created",
    "contact.updated",
    "contact.status_changed",
    "contact.opted_out",
    "contact.merged",
}

Collections = dict[str, list[dict[str, Any]]]


@dataclass
class Check:
    name: str
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)

    def line(self) -> dict[str, Any]:
        return {"invariant": self.name, "ok": self.ok, **self.detail}


def oid(global_id: str | None) -> ObjectId | None:
    decoded = decode_any(global_id) if global_id else None
    return decoded[1] if decoded else None


def _sample(items: Any) -> list[str]:
    return [str(item) for item in list(items)[:SAMPLE]]


def _counted(items: list[Any]) -> dict[str, Any]:
    return {"count": len(items), "sample": _sample(items)}


def _order(event: dict[str, Any]) -> tuple[datetime, ObjectId]:
    return event["occurred_at"], event["_id"]


class Invariants:
    """The checks, over one workspace's documents."""

    def __init__(
        self,
        db: Collections,
        workspace: Workspace,
        ledger: Ledger,
        outcomes: Outcomes,
        subscribers: list[Subscriber],
        receipts: list[Receipt],
        max_attempts: int,
    ) -> None:
        ws = oid(workspace.id)
        self.contacts = [c for c in db["contacts"] if c["workspace_id"] == ws]
        self.events = sorted((e for e in db["events"] if e["workspace_id"] == ws), key=_order)
        self.claims = [c for c in db["phone_claims"] if c["workspace_id"] == ws]
        self.deliveries = [d for d in db["webhook_deliveries"] if d["workspace_id"] == ws]
        self.ledger = ledger
        self.outcomes = outcomes
        self.subscribers = subscribers
        self.receipts = receipts
        self.max_attempts = max_attempts
        self.own = {oid(a.id): a for a in workspace.own}
        self.by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for event in self.events:
            self.by_type[event["type"]].append(event)

    def all(self) -> list[Check]:
        return [
            self.no_server_errors(),
            self.contacts_accounted(),
            self.lifecycle_events(),
            self.one_contact_per_number(),
            self.status_changes_recorded_once(),
            self.subscribers_heard_every_change(),
            self.webhook_deliveries_kept(),
            self.outbox_matches_contacts(),
        ]

    # ------------------------------------------------------------ answers

    def no_server_errors(self) -> Check:
        """No 5xx, no top-level error (INTERNAL_SERVER_ERROR above all), no request unanswered."""
        failures = self.outcomes.failures
        internal = sum("INTERNAL_SERVER_ERROR" in f for f in failures)
        return Check(
            "no_server_errors",
            not failures,
            {"failures": len(failures), "internal_server_errors": internal, "sample": failures[:SAMPLE]},
        )

    # ------------------------------------------------------------ contacts

    def contacts_accounted(self) -> Check:
        """contacts = created - deleted - merged away, as sets of ids."""
        created = {oid(i) for i in self.ledger.created}
        deleted = {oid(i) for i in self.ledger.deleted}
        merged = {oid(i) for i in self.ledger.merged_away}
        expected = created - deleted - merged
        stored = {c["_id"] for c in self.contacts}
        return Check(
            "contacts_accounted",
            expected == stored,
            {
                "created": len(created),
                "deleted": len(deleted),
                "merged_away": len(merged),
                "expected": len(expected),
                "stored": len(stored),
                "missing": _sample(expected - stored),
                "unexpected": _sample(stored - expected),
            },
        )

    def lifecycle_events(self) -> Check:
        """One created event per contact ever created; one deleted per contact gone; one merged per merge."""
        created = Counter(e["contact_id"] for e in self.by_type["contact.created"])
        deleted = Counter(e["contact_id"] for e in self.by_type["contact.deleted"])
        merged = Counter(e["data"]["secondary"]["_id"] for e in self.by_type["contact.merged"])
        made = {oid(i) for i in self.ledger.created}
        gone = {oid(i) for i in self.ledger.deleted} | {oid(i) for i in self.ledger.merged_away}
        merged_away = {oid(i) for i in self.ledger.merged_away}
        wrong = {
            "created_not_once": [i for i in made if created[i] != 1] + [i for i in created if i not in made],
            "deleted_not_once": [i for i in gone if deleted[i] != 1] + [i for i in deleted if i not in gone],
            "merged_not_once": [i for i in merged_away if merged[i] != 1]
            + [i for i in merged if i not in merged_away],
        }
        return Check(
            "lifecycle_events",
            not any(wrong.values()),
            {k: {"count": len(v), "sample": _sample(v)} for k, v in wrong.items()},
        )

    def one_contact_per_number(self) -> Check:
        """No two contacts share a number (phone or otherPhones); each number held is claimed, only those."""
        holders: dict[str, list[ObjectId]] = defaultdict(list)
        for contact in self.contacts:
            for number in dict.fromkeys([contact["phone"], *contact.get("other_phones", [])]):
                holders[number].append(contact["_id"])
        shared = {n: ids for n, ids in holders.items() if len(ids) > 1}
        claims = Counter(c["phone"] for c in self.claims)
        claimed = {c["phone"]: c["contact_id"] for c in self.claims}
        disagree = [
            (number, ids[0], claimed.get(number))
            for number, ids in holders.items()
            if claimed.get(number) != ids[0]
        ]
        loose = [(n, claimed[n]) for n in claimed if n not in holders]
        return Check(
            "one_contact_per_number",
            not shared and not disagree and not loose and max(claims.values(), default=1) == 1,
            {
                "numbers": len(holders),
                "shared": _sample(shared.items()),
                "claim_disagrees": {"count": len(disagree), "sample": _sample(disagree)},
                "claims_without_holder": {"count": len(loose), "sample": _sample(loose)},
            },
        )

    # ------------------------------------------------------------ status changes

    def status_changes_recorded_once(self) -> Check:
        """Every status change the server answered has exactly one event, and every event an answer.

        Events are keyed by the contact changed (as the event's snapshot names it: a merge
        moves the secondary's history to the primary) and the time of the change; per
        contact, each event starts from the status the previous one ended in.
        """
        changes = self.by_type["contact.status_changed"]
        keys = Counter((e["data"]["contact"]["_id"], e["occurred_at"]) for e in changes)
        duplicated = [k for k, n in keys.items() if n > 1]
        initial = {e["contact_id"]: e["data"]["contact"] for e in self.by_type["contact.created"]}
        to_status = {(e["data"]["contact"]["_id"], e["occurred_at"]): e["to_status_id"] for e in changes}
        unexplained_answers = []
        answered = set()
        for answer in self.ledger.statuses_set:
            key = (oid(answer.contact_id), answer.changed_at)
            answered.add(key)
            first = initial.get(key[0]) or {}
            at_creation = answer.changed_at == first.get("status_changed_at") and oid(
                answer.status_id
            ) == first.get("status_id")
            if to_status.get(key) != oid(answer.status_id) and not at_creation:
                unexplained_answers.append(answer)
        unanswered = [k for k in keys if k not in answered]
        broken_chains = []
        last: dict[ObjectId, ObjectId] = {}
        for event in changes:
            contact = event["data"]["contact"]["_id"]
            before = last.get(contact) or (initial.get(contact) or {}).get("status_id")
            if event["from_status_id"] != before:
                broken_chains.append((contact, event["occurred_at"], before, event["from_status_id"]))
            last[contact] = event["to_status_id"]
        return Check(
            "status_changes_recorded_once",
            not (duplicated or unexplained_answers or unanswered or broken_chains),
            {
                "status_changes": len(changes),
                "answers": len(self.ledger.statuses_set),
                "events_duplicated": {"count": len(duplicated), "sample": _sample(duplicated)},
                "answers_without_event": {
                    "count": len(unexplained_answers),
                    "sample": _sample(unexplained_answers),
                },
                "events_without_answer": {"count": len(unanswered), "sample": _sample(unanswered)},
                "from_status_not_previous_to_status": {
                    "count": len(broken_chains),
                    "sample": _sample(broken_chains),
                },
            },
        )

    def subscribers_heard_every_change(self) -> Check:
        """Each subscriber heard every status change it may see, once, in order per contact."""
        per_subscriber: dict[str, dict[str, Any]] = {}
        ok = True
        for subscriber in self.subscribers:
            if not subscriber.heard:
                per_subscriber[subscriber.name] = {"heard": 0}
                ok = False
                continue
            since = subscriber.heard[0].changed_at  # its first barrier: it listened from then on
            own = oid(subscriber.own_agent_id)
            expected = Counter(
                (e["data"]["contact"]["_id"], e["occurred_at"], e["to_status_id"])
                for e in self.by_type["contact.status_changed"]
                if e["occurred_at"] >= since
                and (own is None or e["data"]["contact"].get("assigned_agent_id") == own)
            )
            heard = Counter((oid(h.contact_id), h.changed_at, oid(h.to_status_id)) for h in subscriber.heard)
            out_of_order = []
            newest: dict[ObjectId | None, datetime] = {}
            for h in subscriber.heard:
                contact = oid(h.contact_id)
                if contact in newest and h.changed_at <= newest[contact]:
                    out_of_order.append((contact, h.changed_at))
                newest[contact] = h.changed_at
            missing = expected - heard
            extra = heard - expected
            twice = [k for k, n in heard.items() if n > 1]
            good = not (missing or extra or twice or out_of_order or subscriber.problems)
            ok = ok and good
            lags = sorted(h.lag for h in subscriber.heard)
            per_subscriber[subscriber.name] = {
                "expected": sum(expected.values()),
                "heard": len(subscriber.heard),
                "lag_p50_s": round(lags[len(lags) // 2], 2),
                "lag_max_s": round(lags[-1], 2),
                "missing": {"count": sum(missing.values()), "sample": _sample(missing)},
                "not_expected": {"count": sum(extra.values()), "sample": _sample(extra)},
                "twice": len(twice),
                "out_of_order": len(out_of_order),
                "problems": subscriber.problems[:SAMPLE],
            }
        return Check("subscribers_heard_every_change", ok, {"subscribers": per_subscriber})

    # ------------------------------------------------------------ webhooks

    def webhook_deliveries_kept(self) -> Check:
        """One delivery per event, delivered (a 2xx came back) or pending retry; none failed for no reason."""
        per_event = Counter(d["event_id"] for d in self.deliveries)
        event_ids = {e["_id"] for e in self.events}
        lost = [i for i in event_ids if per_event[i] == 0]
        doubled = [i for i, n in per_event.items() if n > 1]
        orphans = [i for i in per_event if i not in event_ids]
        acknowledged = Counter(oid(r.event_id) for r in self.receipts if 200 <= r.status < 300)
        states = Counter(d["state"] for d in self.deliveries)
        delivered_unheard = [
            d["_id"] for d in self.deliveries if d["state"] == "delivered" and not acknowledged[d["event_id"]]
        ]
        unexplained = [
            d["_id"]
            for d in self.deliveries
            if (
                d["state"] == "failed"
                and (
                    d["attempts"] < self.max_attempts or not all(a.get("error") for a in d.get("history", []))
                )
            )
            or (d["state"] == "pending" and d["attempts"] > 0 and not d.get("last_error"))
        ]
        state_of = {d["event_id"]: d["state"] for d in self.deliveries}
        acknowledged_not_delivered = [
            i for i in acknowledged if state_of.get(i) not in ("delivered", "sending")
        ]
        unsigned = [r.event_id for r in self.receipts if not r.signed]
        return Check(
            "webhook_deliveries_kept",
            not (
                lost
                or doubled
                or orphans
                or delivered_unheard
                or unexplained
                or acknowledged_not_delivered
                or unsigned
            ),
            {
                "events": len(event_ids),
                "states": dict(states),
                "requests_received": len(self.receipts),
                "answered_error": sum(r.status >= 300 for r in self.receipts),
                "acknowledged_more_than_once": sum(n > 1 for n in acknowledged.values()),
                "events_without_delivery": {"count": len(lost), "sample": _sample(lost)},
                "events_with_two_deliveries": len(doubled),
                "deliveries_without_event": len(orphans),
                "delivered_never_received": len(delivered_unheard),
                "failed_or_retried_without_reason": len(unexplained),
                "received_but_not_delivered": len(acknowledged_not_delivered),
                "bad_signatures": len(unsigned),
            },
        )

    # ------------------------------------------------------------ the outbox

    def outbox_matches_contacts(self) -> Check:
        """Each contact is as its latest event shows it: no event tells of a change that did not happen."""
        latest: dict[ObjectId, dict[str, Any]] = {}
        for event in self.events:
            if event["type"] in CONTACT_EVENTS:
                latest[event["data"]["contact"]["_id"]] = event
        differ = []
        for contact in self.contacts:
            found = latest.get(contact["_id"])
            snapshot = (found or {}).get("data", {}).get("contact", {})
            shown = {k: v for k, v in snapshot.items() if k not in NOT_IN_SNAPSHOTS}
            stored = {k: v for k, v in contact.items() if k not in NOT_IN_SNAPSHOTS}
            if shown != stored:
                keys = sorted(k for k in stored.keys() | shown.keys() if stored.get(k) != shown.get(k))
                differ.append((contact["_id"], found["type"] if found else None, keys))
        return Check(
            "outbox_matches_contacts",
            not differ,
            {"contacts": len(self.contacts), "differ": {"count": len(differ), "sample": _sample(differ)}},
        )
