"""Seed data for categories and routing rules (data, not code: admins may change the rows later).

Category codes follow the 数字城管 pattern major-minor (01 市容环境 …). Numbering differs between
cities; these are this alliance's codes. 装修垃圾偷倒, 生活垃圾偷倒, 违法装修 and 群租 are local extensions.
Time limits are local policy (examples from Shanghai practice: 暴露垃圾 4 工作时; 违法搭建 stop-work within
4 工作时 and a decision within 7 工作日; 12345: first contact within 1 工作日, disposal within 5).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.cases.models import Category, RoutingRule

CATEGORIES: list[dict[str, Any]] = [
    {
        "code": "01-01",
        "name_zh": "私搭乱建（违法搭建）",
        "name_en": "Illegal construction",
        "major_class": "01 市容环境",
        "description": "未经批准搭建的建筑物、构筑物",
        "dedup_radius_m": 100,
        "dedup_window_h": 168,
        "claim_limit_value": 4,
        "claim_limit_unit": "work_hours",
        "resolve_limit_value": 7,
        "resolve_limit_unit": "work_days",
    },
    {
        "code": "01-10",
        "name_zh": "暴露垃圾",
        "name_en": "Exposed garbage",
        "major_class": "01 市容环境",
        "description": "道路、绿地、河岸等处暴露的垃圾",
        "dedup_radius_m": 100,
        "dedup_window_h": 72,
        "claim_limit_value": 1,
        "claim_limit_unit": "work_hours",
        "resolve_limit_value": 4,
        "resolve_limit_unit": "work_hours",
    },
    {
        "code": "01-11",
        "name_zh": "积存垃圾渣土（建筑垃圾偷倒）",
        "name_en": "Dumped construction waste",
        "major_class": "01 市容环境",
        "description": "建筑垃圾、渣土偷倒或积存",
        "dedup_radius_m": 150,
        "dedup_window_h": 72,
        "claim_limit_value": 2,
        "claim_limit_unit": "work_hours",
        "resolve_limit_value": 1,
        "resolve_limit_unit": "work_days",
    },
    {
        "code": "01-12",
        "name_zh": "装修垃圾偷倒",
        "name_en": "Dumped renovation waste",
        "major_class": "01 市容环境",
        "description": "装修垃圾未按申报方案清运、偷倒（附近小区在施装修申报一并列出）",
        "dedup_radius_m": 150,
        "dedup_window_h": 72,
        "claim_limit_value": 2,
        "claim_limit_unit": "work_hours",
        "resolve_limit_value": 1,
        "resolve_limit_unit": "work_days",
    },
    {
        "code": "01-51",
        "name_zh": "生活垃圾偷倒",
        "name_en": "Dumped household waste",
        "major_class": "01 市容环境",
        "description": "生活垃圾偷倒（沟渠、断头路等处）",
        "dedup_radius_m": 100,
        "dedup_window_h": 72,
        "claim_limit_value": 2,
        "claim_limit_unit": "work_hours",
        "resolve_limit_value": 1,
        "resolve_limit_unit": "work_days",
    },
    {
        "code": "05-51",
        "name_zh": "违法装修",
        "name_en": "Illegal renovation",
        "major_class": "05 街面秩序",
        "description": "擅自改变房屋结构、破坏承重墙等违法装修",
        "dedup_radius_m": 50,
        "dedup_window_h": 168,
        "claim_limit_value": 4,
        "claim_limit_unit": "work_hours",
        "resolve_limit_value": 5,
        "resolve_limit_unit": "work_days",
    },
    {
        "code": "05-52",
        "name_zh": "群租",
        "name_en": "Illegal group rental",
        "major_class": "05 街面秩序",
        "description": "违规分隔出租、群租",
        "dedup_radius_m": 30,
        "dedup_window_h": 720,
        "claim_limit_value": 1,
        "claim_limit_unit": "work_days",
        "resolve_limit_value": 10,
        "resolve_limit_unit": "work_days",
    },
]

ROUTING_RULES: list[dict[str, Any]] = [
    {
        "priority": 10,
        "name": "member-border-zone",
        "outcome": "member",
        "in_border_zone": True,
        "lead": "jurisdiction",
        "partner": "nearest_other_district",
        "queue": "district",
        "reason_zh": "交界地带：属地中队牵头，对侧最近中队协同",
    },
    {
        "priority": 20,
        "name": "member-jurisdiction",
        "outcome": "member",
        "in_border_zone": None,
        "lead": "jurisdiction",
        "partner": "none",
        "queue": "district",
        "reason_zh": "首接负责：属地中队负责",
    },
    {
        "priority": 30,
        "name": "outside-alliance",
        "outcome": "outside_alliance",
        "in_border_zone": None,
        "lead": "dispatcher",
        "partner": "none",
        "queue": "alliance",
        "reason_zh": "联盟外区域：转联盟调度员协调属地",
    },
    {
        "priority": 40,
        "name": "outside-coverage",
        "outcome": "outside_coverage",
        "in_border_zone": None,
        "lead": "dispatcher",
        "partner": "none",
        "queue": "alliance",
        "reason_zh": "不在任何行政区内（海域、外省市）：转联盟调度员核实",
    },
]


def seed_categories_and_rules(session: Session) -> tuple[int, int]:
    """Insert missing categories and routing rules (existing rows are left as admins set them)."""
    have = set(session.scalars(select(Category.code)))
    new_categories = [Category(**c) for c in CATEGORIES if c["code"] not in have]
    session.add_all(new_categories)
    rules = set(session.scalars(select(RoutingRule.name)))
    new_rules = [RoutingRule(**r) for r in ROUTING_RULES if r["name"] not in rules]
    session.add_all(new_rules)
    session.flush()
    return len(new_categories), len(new_rules)
