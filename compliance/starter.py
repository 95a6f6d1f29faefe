"""A commented starter launch description for the markets a product team names."""
from __future__ import annotations

import datetime as dt


def starter_yaml(name: str, markets: list[str]) -> str:
    launch_date = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    has_cn = "CN" in markets
    lang = "zh" if has_cn and len(markets) == 1 else "en"
    return f"""# Launch description for launch-compliance. Validate with: compliance validate launch.yaml
# Every field is documented in `compliance schema`. Leave a fact out if you do not know it:
# rules that need it report `needs_info` instead of passing silently.
schema_version: "1"
launch:
  name: {name}
  company: {{name: Example Ltd, country: {markets[0] if markets[0] != 'EU' else 'DE'}}}
  launch_date: {launch_date}
  markets: [{', '.join(markets)}]
  channels: [web, app]
  audience: {{min_age: 18, includes_minors: false}}
products:
  - {{id: p1, name: Example product, category: software}}
personal_data:
  collects: true
  items:
    - {{id: email, name: Email address, category: contact, sensitive: false, lawful_basis: contract, necessary: true, retention_days: 730}}
  consents: []
  transfers: []      # e.g. {{id: t1, to_country: US, mechanism: scc, data_items: [email]}}
  cookies: []        # e.g. {{id: c1, name: _ga, party: third, purpose: analytics, fires_before_consent: false}}
materials:
  - id: m1
    type: ad
    channel: social
    language: {lang}
    text: "Describe the product in the words the ad will use."
substantiation: []   # e.g. {{claim: "clinically proven", evidence: "Study XYZ-2026, n=120"}}
commerce:
  seller: {{legal_name: Example Ltd, address: "1 Example Street", email: support@example.com, identity_displayed: true}}
  returns: {{window_days: 14, withdrawal_information_given: true}}
  prices: []
ip:
  trademarks: []
  assets: []
readiness:
  goals:
    - {{id: g1, horizon: project, description: First sales, metric: orders, target: 500, owner: Sales lead, deadline: {launch_date}}}
"""
