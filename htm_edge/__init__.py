"""HTM Edge: vendor-neutral predictive maintenance for hospital medical equipment.

Installed, every part lives under this one namespace, mapped from the
repository's top-level folders (see ``docs/architecture.md``):

* :mod:`htm_edge.config` — the validated configuration tree (a leaf);
* :mod:`htm_edge.collector` — ingest: sources, protocols, sinks, dead letters;
* :mod:`htm_edge.models` — online anomaly scoring on numpy arrays;
* :mod:`htm_edge.alerting` — rules, alerts, work orders, notifiers;
* :mod:`htm_edge.simulators` — simulated device fleets with ground truth;
* :mod:`htm_edge.gateway` — the application: CLI, daemon, demo, evaluation,
  the only package that imports every role.
"""
