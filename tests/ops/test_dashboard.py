"""deploy/grafana-dashboard.json: valid JSON that Grafana can import, whose
queries name only metrics this process registers, and that charts every one
of them."""

import json
import re

import pytest
from prometheus_client import REGISTRY

import rooms.ops.metrics  # noqa: F401 (registers the metrics)
from tests.harness.deployment import ROOT

DASHBOARD = ROOT / "deploy" / "grafana-dashboard.json"
SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
}


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def charts(dashboard: dict) -> list[dict]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def queried_names(dashboard: dict) -> set[str]:
    names = set()
    for panel in charts(dashboard):
        for target in panel["targets"]:
            names.update(re.findall(r"\brooms_[a-z_]+", target["expr"]))
    names.update(re.findall(r"\brooms_[a-z_]+", json.dumps(dashboard["templating"]["list"])))
    return names


def registered_series() -> dict[str, str]:
    """Every series name the registry's rooms_ metrics expose -> its family."""
    series = {}
    for family in REGISTRY.collect():
        if family.name.startswith("rooms_"):
            for suffix in SUFFIXES[family.type]:
                series[family.name + suffix] = family.name
    return series


def test_the_dashboard_is_a_grafana_dashboard(dashboard):
    assert dashboard["title"] and dashboard["uid"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in charts(dashboard):
        assert panel["title"] and panel["datasource"]["type"] == "prometheus", panel
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"])
        assert panel["targets"] and all(target["expr"] for target in panel["targets"])
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids))
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert {"datasource", "instance"} <= variables


def test_every_metric_the_dashboard_queries_exists_in_the_registry(dashboard):
    series = registered_series()
    unknown = queried_names(dashboard) - set(series)
    assert not unknown, f"the dashboard queries metrics nobody exposes: {sorted(unknown)}"


def test_the_dashboard_charts_every_rooms_metric(dashboard):
    series = registered_series()
    charted = {series[name] for name in queried_names(dashboard) if name in series}
    assert charted == set(series.values())
