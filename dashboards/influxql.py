"""The InfluxQL query type that grafana-foundation-sdk lacks (it ships no InfluxDB builder).

A target of Grafana's ``influxdb`` data source in raw mode is::

    {"refId": "A", "datasource": {"type": "influxdb", "uid": "${datasource}"},
     "query": "SELECT ...", "rawQuery": true, "resultFormat": "time_series", "alias": "$tag_side"}

``InfluxQL`` builds exactly that (a :class:`cog.variants.Dataquery`, so it plugs into every
panel builder's ``with_target``), and ``InfluxAnnotation`` builds an InfluxQL annotation
query (Grafana 10+ ``target`` form with ``textColumn``/``tagsColumn``). Raw InfluxQL is served
by InfluxDB 1.x, 2.x (through a DBRP mapping) and 3.x, so one set of dashboards fits all.
"""
from __future__ import annotations

import typing

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard as dash

__all__ = ["INFLUX_TYPE", "DS", "InfluxQLQuery", "InfluxQL", "InfluxAnnotationQuery", "InfluxAnnotation"]

#: plugin id of Grafana's InfluxDB data source
INFLUX_TYPE = "influxdb"
#: every panel queries the data source chosen in the ``datasource`` variable
DS = dash.DataSourceRef(type_val=INFLUX_TYPE, uid="${datasource}")

RESULT_FORMATS = ("time_series", "table", "logs")


class InfluxQLQuery(cogvariants.Dataquery):
    """Model of one raw-InfluxQL target (serialised by :meth:`to_json`)."""

    def __init__(self, ref_id: str = "A", query: str = "", result_format: str = "time_series",
                 alias: str | None = None, hide: bool | None = None,
                 datasource: dash.DataSourceRef | None = None) -> None:
        self.ref_id = ref_id
        self.query = query
        self.result_format = result_format
        self.alias = alias
        self.hide = hide
        self.datasource = datasource or DS

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "datasource": self.datasource,
            "query": self.query,
            "rawQuery": True,
            "resultFormat": self.result_format,
        }
        if self.alias is not None:
            payload["alias"] = self.alias
        if self.hide is not None:
            payload["hide"] = self.hide
        return payload


class InfluxQL(cogbuilder.Builder[InfluxQLQuery]):
    """Builder: ``InfluxQL('SELECT mean("x") FROM "m" WHERE $timeFilter GROUP BY time($__interval)')``."""

    def __init__(self, query: str, ref_id: str = "A") -> None:
        if not query.strip():
            raise ValueError("an InfluxQL target needs a query")
        self._internal = InfluxQLQuery(ref_id=ref_id, query=query)

    def build(self) -> InfluxQLQuery:
        return self._internal

    def ref_id(self, ref_id: str) -> typing.Self:
        self._internal.ref_id = ref_id
        return self

    def alias(self, alias: str) -> typing.Self:
        """Series name pattern, e.g. ``$tag_side`` or ``$col``."""
        self._internal.alias = alias
        return self

    def table(self) -> typing.Self:
        """Result as a table (one row per time/group) instead of time series."""
        self._internal.result_format = "table"
        return self

    def result_format(self, fmt: str) -> typing.Self:
        if fmt not in RESULT_FORMATS:
            raise ValueError(f"resultFormat must be one of {RESULT_FORMATS}")
        self._internal.result_format = fmt
        return self


class InfluxAnnotationQuery(dash.AnnotationQuery):
    """An annotation query on the InfluxDB data source (raw InfluxQL, field mappings)."""

    def __init__(self, name: str, query: str, *, icon_color: str, text_column: str | None = None,
                 tags_column: str | None = None, title_column: str | None = None,
                 enable: bool = True) -> None:
        super().__init__(name=name, datasource=DS, enable=enable, icon_color=icon_color)
        self.query = query
        self.text_column = text_column
        self.tags_column = tags_column
        self.title_column = title_column

    def to_json(self) -> dict[str, object]:
        payload = super().to_json()
        target: dict[str, object] = {"refId": "Anno", "query": self.query, "rawQuery": True,
                                     "resultFormat": "table", "fromAnnotations": True}
        for key, value in (("textColumn", self.text_column), ("tagsColumn", self.tags_column),
                           ("titleColumn", self.title_column)):
            if value:
                target[key] = value
        payload["target"] = target
        return payload


class InfluxAnnotation(cogbuilder.Builder[dash.AnnotationQuery]):
    """Builder of :class:`InfluxAnnotationQuery` (add with ``Dashboard.annotation``)."""

    def __init__(self, name: str, query: str, **kw) -> None:
        self._internal = InfluxAnnotationQuery(name, query, **kw)

    def build(self) -> dash.AnnotationQuery:
        return self._internal
