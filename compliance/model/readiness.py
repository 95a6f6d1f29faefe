"""The launch-readiness part of the description: goals, equipment, backups, people, plans, reviews."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import Date, Identifier, Strict


class Goal(Strict):
    id: Identifier
    horizon: Literal["long_term", "short_term", "project"]
    description: str
    metric: str | None = None
    baseline: float | None = None
    target: float | None = None
    unit: str | None = None
    owner: str | None = None
    deadline: Date | None = None
    data_source: str | None = None
    tracking_consent_gated: bool | None = None


class Equipment(Strict):
    id: Identifier
    type: Literal["server", "computer", "network", "printer", "phone_system", "pos", "storage", "cloud_service", "other"]
    name: str | None = None
    status: Literal["ready", "degraded", "not_ready", "unknown"] | None = None
    critical: bool | None = None
    spare_or_failover: bool | None = None
    software_updated: bool | None = None
    last_checked: Date | None = None
    load_tested: bool | None = None


class Power(Strict):
    ups: bool | None = None
    ups_last_tested: Date | None = None
    generator: bool | None = None
    runtime_minutes: int | None = None


class Backup(Strict):
    id: Identifier
    system: str
    automated: bool | None = None
    schedule: str | None = None
    offsite_or_cloud_copy: bool | None = None
    encrypted: bool | None = None
    covers: list[Literal["customer_data", "transactions", "system_logs", "project_files", "configuration"]] = []
    integrity_checked: bool | None = None
    last_restore_test: Date | None = None
    restore_test_passed: bool | None = None
    rpo_hours: float | None = None
    rto_hours: float | None = None
    location_country: str | None = None


class Training(Strict):
    id: Identifier
    role: str
    topics: list[Literal["system_operation", "new_processes", "product", "security", "privacy", "claims_rules",
                         "customer_support", "returns"]] = []
    completion_pct: float | None = None
    required_pct: float | None = Field(None, description="Target completion; default 90")
    completion_target_met: bool | None = Field(
        None, description="Derived, leave it out: completion_pct >= required_pct (default 90), set when completion_pct is given")
    drill_held: bool | None = None
    last_session: Date | None = None

    @model_validator(mode="after")
    def _derive_target_met(self) -> "Training":
        # Rules cannot compare two fields of one fact, so the comparison is made here.
        if self.completion_pct is not None:
            met = self.completion_pct >= (self.required_pct if self.required_pct is not None else 90)
            if self.completion_target_met is not None and self.completion_target_met != met:
                raise ValueError("completion_target_met contradicts completion_pct and required_pct; leave it out")
            self.completion_target_met = met
        return self


class EmergencyPlan(Strict):
    id: Identifier
    scenario: Literal["natural_disaster", "power_outage", "system_failure", "data_loss", "cyber_attack",
                      "public_emergency", "data_breach", "payment_failure", "pr_crisis", "product_recall"]
    steps_documented: bool | None = None
    owner: str | None = None
    deputy: str | None = None
    emergency_contacts: bool | None = None
    regulator_contacts: bool | None = None
    last_drill: Date | None = None
    last_reviewed: Date | None = None


class Marketing(Strict):
    target_market_analysed: bool | None = None
    goals_set: bool | None = None
    budget_confirmed: bool | None = None
    channels_working: list[Literal["website", "social", "email", "sms", "app", "marketplace", "search", "tv"]] = []
    channels_planned: list[str] = []
    materials_ready: bool | None = None
    demand_surge_plan: bool | None = None
    campaign_calendar: bool | None = None


class Content(Strict):
    reviewed_against_brand: bool | None = None
    reviewed_against_law: bool | None = None
    publishing_calendar: bool | None = None
    seo_done: bool | None = None
    feedback_channel: bool | None = None


class LegalReview(Strict):
    done: bool | None = None
    counsel: str | None = None
    date: Date | None = None
    internal_approval_process: bool | None = None
    staff_briefed: bool | None = None
    markets_covered: list[str] = Field([], description="Markets whose laws the review covered")


class ActionItem(Strict):
    id: Identifier
    description: str
    area: str | None = None
    owner: str | None = None
    due: Date | None = None
    status: Literal["open", "in_progress", "done"] = "open"


class General(Strict):
    business_processes_defined: bool | None = None
    staffing_in_place: bool | None = None
    supply_chain_stable: bool | None = None
    budget_confirmed: bool | None = None
    funding_confirmed: bool | None = None
    check_plan_with_timeline: bool | None = None
    results_shared_with_stakeholders: bool | None = None
    post_launch_monitoring: bool | None = None
    rollback_plan: bool | None = None
    go_no_go_criteria: bool | None = None


class Readiness(Strict):
    goals: list[Goal] = []
    equipment: list[Equipment] = []
    power: Power | None = None
    backups: list[Backup] = []
    training: list[Training] = []
    emergency_plans: list[EmergencyPlan] = []
    marketing: Marketing | None = None
    content: Content | None = None
    legal: LegalReview | None = None
    general: General | None = None
    action_items: list[ActionItem] = []
