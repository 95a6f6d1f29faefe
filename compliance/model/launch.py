"""The launch description: what is launched, where, to whom, with which data, claims, prices and assets.

Every leaf is optional unless a launch cannot be described without it: a missing fact that a rule needs
becomes a `needs_info` outcome, never a silent pass.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import Date, Identifier, Strict

Channel = Literal["web", "app", "marketplace", "social", "email", "sms", "push", "im", "tv", "radio", "print",
                  "ooh", "livestream", "search", "display", "in_store"]


class Company(Strict):
    name: str
    legal_name: str | None = None
    country: str | None = Field(None, description="Country of establishment (ISO code, e.g. CN, DE, GB, US)")
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    registration_no: str | None = None
    vat_no: str | None = None
    employees: int | None = None
    annual_revenue: float | None = None
    revenue_currency: str | None = None
    eu_representative: str | None = None
    uk_representative: str | None = None
    cn_representative: str | None = None


class Audience(Strict):
    description: str | None = None
    min_age: int | None = None
    includes_minors: bool | None = None
    child_directed: bool | None = None
    likely_accessed_by_children: bool | None = None
    age_verification: bool | None = None


class Launch(Strict):
    name: str
    company: Company | None = None
    launch_date: Date | None = None
    markets: list[str] = Field(min_length=1, description="CN, EU, EU member states (DE, FR, ...), UK, US, US-CA")
    channels: list[Channel] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    business_model: Literal["direct_sale", "marketplace", "platform", "ugc", "saas", "subscription", "app"] | None = None
    platforms: list[str] = Field([], description="Marketplaces or app stores used, e.g. Tmall, JD, Amazon")
    audience: Audience | None = None
    expected_users: dict[str, int] = Field({}, description="Expected users per market, e.g. {CN: 120000}")
    uses_bots: bool | None = Field(None, description="Automated online accounts or chatbots talk to consumers (sales, support, social)")
    bot_disclosed: bool | None = Field(None, description="Each bot clearly discloses that it is a bot")


class Product(Strict):
    id: Identifier
    name: str
    category: Literal["cosmetics", "ordinary_food", "health_food", "medical_device", "drug", "software",
                      "digital_content", "apparel", "electronics", "toys", "alcohol", "tobacco", "e_cigarette",
                      "gambling", "financial", "infant_formula", "supplement", "household", "service", "other"]
    description: str | None = None
    made_in: str | None = None
    origin_claim: str | None = None
    us_content_pct: float | None = None
    registrations: list[str] = Field([], description="Product approvals held, e.g. health_food_blue_hat, nmpa_device, ce_mark")
    eco_certifications: list[str] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    sustainability_label_shown: bool | None = Field(None, description="A sustainability or eco label is displayed on the product or its ads")
    sustainability_label_certified: bool | None = Field(None, description="That label rests on a third-party certification scheme or was set up by public authorities")
    safety_tested: bool | None = None
    age_grading: str | None = None
    subcategory: str | None = Field(None, description="Finer product type where a law turns on it, e.g. live_event_ticket, short_term_lodging, restaurant_meal")
    less_healthy: bool | None = Field(None, description="Food or drink that is 'less healthy' (HFSS) under the applicable nutrient profiling model (UK: in scope of the 2026 advertising restrictions)")


class DataItem(Strict):
    id: Identifier
    name: str
    category: Literal["contact", "identity", "account", "financial", "payment", "health", "biometric", "genetic",
                      "location", "precise_location", "minors", "religion", "political", "sexual_orientation",
                      "ethnicity", "criminal", "trade_union", "device", "usage", "behavioural", "other"] | None = None
    sensitive: bool | None = Field(None, description="Sensitive personal information (PIPL Art. 28) / CPRA sensitive PI")
    special_category: bool | None = Field(None, description="GDPR Art. 9 special category data")
    subjects: list[str] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    purposes: list[str] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    lawful_basis: Literal["consent", "contract", "legal_obligation", "vital_interests", "public_task",
                          "legitimate_interests", "explicit_consent", "none"] | None = None
    necessary: bool | None = Field(None, description="Necessary for the service (minimum necessity)")
    retention_days: int | None = None
    storage_location: str | None = None
    sold_or_shared: bool | None = Field(None, description="Sold or shared for cross-context behavioural ads (CCPA)")


class Consent(Strict):
    id: Identifier
    purpose: str
    covers: list[str] = Field([], description="Data item ids this consent covers")
    separate: bool | None = Field(None, description="Separate consent (PIPL 单独同意), not bundled")
    explicit: bool | None = None
    preticked: bool | None = None
    freely_given: bool | None = None
    give_clicks: int | None = None
    withdraw_clicks: int | None = None
    logged: bool | None = None
    parental: bool | None = Field(None, description="Given by a parent/guardian for minors")
    written: bool | None = None


class Transfer(Strict):
    id: Identifier
    to_country: str
    from_market: str | None = None
    recipient: str | None = None
    data_items: list[str] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    mechanism: Literal["adequacy", "scc", "bcr", "dpf", "idta", "uk_addendum", "cn_security_assessment",
                       "cn_standard_contract", "cn_certification", "exemption", "derogation", "none"] | None = None
    volume_individuals: int | None = None
    sensitive_volume: int | None = None
    separate_consent: bool | None = None
    tia_done: bool | None = None
    pia_done: bool | None = None
    filing_ref: str | None = None


class Processor(Strict):
    id: Identifier
    name: str
    country: str | None = None
    contract: bool | None = Field(None, description="A data processing agreement is signed")
    purpose: str | None = None


class Cookie(Strict):
    id: Identifier
    name: str
    party: Literal["first", "third"] | None = None
    purpose: Literal["strictly_necessary", "functional", "analytics", "advertising", "social"] | None = None
    fires_before_consent: bool | None = None
    gpc_honoured: bool | None = None
    duration_days: int | None = None


class Personalisation(Strict):
    recommendations: bool | None = None
    personalised_search: bool | None = None
    targeted_marketing: bool | None = None
    non_personalised_option: bool | None = None
    opt_out_available: bool | None = None
    automated_decisions_with_legal_effect: bool | None = None
    profiling_of_minors: bool | None = None


class PersonalData(Strict):
    collects: bool | None = None
    items: list[DataItem] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    consents: list[Consent] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    transfers: list[Transfer] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    processors: list[Processor] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    cookies: list[Cookie] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    personalisation: Personalisation | None = None
    privacy_notice_url: str | None = None
    privacy_notice_languages: list[str] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    notice_lists_purposes: bool | None = None
    notice_lists_retention: bool | None = None
    notice_lists_rights: bool | None = None
    notice_lists_recipients: bool | None = None
    dpo_appointed: bool | None = None
    pipo_appointed: bool | None = None
    dpia_done: bool | None = None
    pipia_done: bool | None = None
    ropa_kept: bool | None = Field(None, description="Records of processing activities")
    rights_request_channel: bool | None = None
    rights_response_days: int | None = None
    account_deletion_available: bool | None = None
    breach_plan: bool | None = None
    cookie_banner: bool | None = None
    cookie_reject_all_first_layer: bool | None = None
    do_not_sell_link: bool | None = None
    sensitive_pi_limit_link: bool | None = None
    gpc_honoured: bool | None = None
    encryption_at_rest: bool | None = None
    marketing_messages: bool | None = None
    marketing_opt_in: bool | None = None
    marketing_unsubscribe: bool | None = None
    ai_training_on_user_data: bool | None = None
    notice_matches_practices: bool | None = Field(None, description="The privacy notice truthfully describes every actual collection, use, sharing and security practice (FTC Act s.5)")
    retroactive_material_change: bool | None = Field(None, description="Data already collected is now used in a materially different way than promised when it was collected (e.g. AI training, new third-party sharing)")
    material_change_consent: bool | None = Field(None, description="Affirmative consent was obtained for that retroactive material change")
    data_broker: bool | None = Field(None, description="Sells personal information of consumers the business has no direct relationship with (data broker)")
    data_broker_registered: bool | None = Field(None, description="Registered as a data broker where the law requires it (e.g. California Delete Act)")
    regulator_fee_paid: bool | None = Field(None, description="Registered with / fee paid to the data protection regulator where the law requires it (UK: ICO data protection fee)")
    large_scale: bool | None = Field(None, description="Processing on a large scale (GDPR Arts. 35(3), 37(1)): number of people, volume, duration, reach")
    systematic_monitoring: bool | None = Field(None, description="Regular and systematic monitoring of people, e.g. tracking, profiling, behavioural ads (GDPR Art. 37(1)(b))")


class Endorsement(Strict):
    endorser: str
    type: Literal["influencer", "celebrity", "employee", "customer", "expert", "doctor", "kol", "ai_avatar"] | None = None
    paid: bool | None = None
    material_connection: bool | None = None
    disclosed: bool | None = None
    used_product: bool | None = None
    age: int | None = None
    consent_ref: str | None = None
    is_health_professional: bool | None = None


class Material(Strict):
    id: Identifier
    type: Literal["ad", "product_page", "landing_page", "social_post", "email", "sms", "livestream_script",
                  "packaging", "video", "banner", "press_release", "app_store_listing", "other"]
    channel: str | None = None
    market: str | list[str] | None = Field(None, description="Market(s) where it runs; default: every launch market")
    language: Literal["en", "zh", "de", "fr", "es", "it", "nl", "auto"] = "auto"
    product: str | None = Field(None, description="Product id the material promotes")
    text: str | None = None
    text_file: str | None = Field(None, description="Path to a .txt, .md or .html file, relative to the launch file")
    labelled_as_ad: bool | None = None
    ai_generated: bool | None = None
    ai_label_shown: bool | None = None
    targets_minors: bool | None = None
    popup: bool | None = None
    close_button: bool | None = None
    reviewed: bool | None = None
    ad_approval_ref: str | None = Field(None, description="Approval/clearance number from a regulator where the ad needs prior approval (e.g. CN 广告审查批准文号 for drug, medical-device and health-food ads)")
    endorsements: list[Endorsement] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    assets: list[str] = Field([], description="Asset ids used in this material")

    @model_validator(mode="after")
    def _one_text_source(self) -> "Material":
        if self.text is not None and self.text_file is not None:
            raise ValueError("give either text or text_file, not both")
        return self


class Substantiation(Strict):
    claim: str = Field(description="The claim text as it appears in the material")
    evidence: str = Field(description="The evidence held before the claim was made (study, test report, source)")
    material: str | None = None
    document: str | None = None
    date: Date | None = None


class Price(Strict):
    id: Identifier
    product: str | None = None
    market: str | None = None
    price: float | None = None
    currency: str | None = None
    includes_tax: bool | None = None
    mandatory_fees_included: bool | None = None
    unit_price_shown: bool | None = None
    reference_price: float | None = Field(None, description="Was/before price shown beside a discount")
    reference_basis: Literal["lowest_30_days", "lowest_7_days", "previous_price", "rrp", "competitor", "none"] | None = None
    lowest_price_30_days: float | None = None
    lowest_price_7_days: float | None = None
    lowest_price_90_days: float | None = None
    reference_price_weeks_offered: int | None = None
    discount_start: Date | None = None
    discount_end: Date | None = None
    countdown_timer: bool | None = None
    countdown_resets: bool | None = None
    personalised: bool | None = None
    personalised_disclosed: bool | None = None
    drip_pricing: bool | None = None
    free_claim: bool | None = None
    reference_price_last_offered: Date | None = Field(None, description="Last date the product was actually offered at the reference (was) price")


class Seller(Strict):
    legal_name: str | None = None
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    registration_no: str | None = None
    vat_no: str | None = None
    business_licence_displayed: bool | None = None
    icp_licence: str | None = None
    icp_displayed: bool | None = None
    identity_displayed: bool | None = None
    terms_available: bool | None = None
    complaint_channel: bool | None = None


class Returns(Strict):
    window_days: int | None = None
    no_reason_returns: bool | None = None
    exceptions: list[str] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    refund_days: int | None = None
    withdrawal_information_given: bool | None = None
    withdrawal_form_provided: bool | None = None
    withdrawal_button: bool | None = None
    return_costs_disclosed: bool | None = None
    warranty_information: bool | None = None


class Reviews(Strict):
    displayed: bool | None = None
    verified: bool | None = None
    verification_disclosed: bool | None = None
    incentivised: bool | None = None
    incentives_conditional_on_sentiment: bool | None = None
    incentivised_disclosed: bool | None = None
    deletes_negative: bool | None = None
    suppresses_negative: bool | None = None
    insider_reviews_disclosed: bool | None = None
    fake_review_controls: bool | None = None
    bought_reviews: bool | None = None
    terms_restrict_reviews: bool | None = Field(None, description="Terms or form contracts bar or penalise honest customer reviews, or claim IP rights in them (non-disparagement clause)")


class Subscription(Strict):
    id: Identifier
    product: str | None = None
    auto_renew: bool | None = None
    free_trial: bool | None = None
    trial_converts_to_paid: bool | None = None
    trial_days: int | None = None
    price_disclosed_before_purchase: bool | None = None
    express_consent: bool | None = None
    reminder_days_before_renewal: int | None = None
    trial_end_reminder: bool | None = None
    cancel_online: bool | None = None
    cancel_same_channel: bool | None = None
    cancel_clicks: int | None = None
    renewal_terms_prominent: bool | None = None
    confirmation_sent: bool | None = None
    term_months: int | None = Field(None, description="Length of the initial subscription term in months")
    annual_reminder: bool | None = Field(None, description="Subscribers get a reminder at least once a year with the product, billing frequency, amount and how to cancel")


class Checkout(Strict):
    final_button_label: str | None = None
    preselected_addons: bool | None = None
    payment_surcharge: bool | None = None
    input_error_correction: bool | None = None
    order_confirmation: bool | None = None
    total_price_shown_before_order: bool | None = None
    tied_sales: bool | None = None
    default_agree_tied: bool | None = None


class Commerce(Strict):
    seller: Seller | None = None
    returns: Returns | None = None
    reviews: Reviews | None = None
    subscriptions: list[Subscription] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    checkout: Checkout | None = None
    prices: list[Price] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    invoices_issued: bool | None = None
    electronic_invoices: bool | None = None
    prize_promotions: bool | None = None
    prize_max_value: float | None = None
    prize_rules_disclosed: bool | None = None
    delivery_time_stated: bool | None = None
    deposits_refundable: bool | None = None
    platform_rules_published: bool | None = None
    platform_checks_merchants: bool | None = None
    takedown_process: bool | None = None
    dark_patterns_reviewed: bool | None = None
    accessibility_info_published: bool | None = Field(None, description="How the online shop meets accessibility requirements is published in the T&Cs or an equivalent document (EU Accessibility Act Art. 13(2), Annex V)")
    shipping_delay_notice: bool | None = Field(None, description="When a promised (or 30-day) shipping date slips, buyers get a delay notice with the option to cancel for a refund")


class Registration(Strict):
    market: str
    status: Literal["registered", "pending", "refused", "opposed", "none"]
    number: str | None = None
    classes: list[int] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    expires: Date | None = None


class Trademark(Strict):
    id: Identifier
    mark: str
    owner: str | None = None
    registrations: list[Registration] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    used_in: list[str] = Field([], description="Markets where the mark is used; default: every launch market")
    uses_registered_symbol: bool | None = None
    clearance_search_done: bool | None = None
    licensed_from: str | None = None
    licence_recorded: bool | None = None
    well_known_claim: bool | None = None


class Licence(Strict):
    type: Literal["owned", "exclusive", "non_exclusive", "royalty_free", "creative_commons", "open_source",
                  "public_domain", "work_for_hire", "none"] | None = None
    territories: list[str] = Field([], description="Markets covered, or WORLDWIDE")
    expires: Date | None = None
    commercial_use: bool | None = None
    ref: str | None = None
    allows_modification: bool | None = None


class Asset(Strict):
    id: Identifier
    type: Literal["image", "photo", "video", "music", "font", "text", "software", "logo", "illustration", "voice", "other"]
    description: str | None = None
    owner: str | None = None
    licence: Licence | None = None
    used_in: list[str] = Field([], description="Markets where the asset is used; default: every launch market")
    ai_generated: bool | None = None
    ai_label_shown: bool | None = None
    depicts_real_person: bool | None = None
    release_obtained: bool | None = Field(None, description="Model/portrait release from the person depicted")
    commissioned: bool | None = None
    assignment_in_writing: bool | None = None


class IntellectualProperty(Strict):
    trademarks: list[Trademark] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    assets: list[Asset] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    patents_claimed: bool | None = None
    patent_numbers_shown: bool | None = None
    domain_names: list[str] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    ugc_platform: bool | None = None
    dmca_agent_designated: bool | None = Field(None, description="A DMCA agent is designated with the US Copyright Office (17 U.S.C. 512(c)(2))")


class TaxRegistration(Strict):
    market: str
    type: Literal["vat", "oss", "ioss", "uk_vat", "sales_tax", "cn_tax", "gst", "other"]
    number: str | None = None
    status: Literal["registered", "pending", "not_required", "none"] = "registered"


class Tax(Strict):
    registrations: list[TaxRegistration] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    eu_cross_border_b2c_sales_eur: float | None = None
    uk_taxable_turnover_gbp: float | None = None
    us_state_sales: dict[str, float] = Field({}, description="Expected annual sales (USD) per state, e.g. {US-CA: 600000}")
    us_state_transactions: dict[str, int] = {}
    prices_include_vat: bool | None = None
    invoices_issued: bool | None = None
    electronic_invoices: bool | None = None
    sales_tax_collected: bool | None = None
    marketplace_facilitator: bool | None = None
    platform_reports_seller_tax_info: bool | None = Field(None, description="A marketplace/platform reports its sellers' identity and tax-related information to the tax authority (CN E-Commerce Law Art. 28(2), EU DAC7, US Form 1099-K)")
