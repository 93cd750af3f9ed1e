"""gaitmon pipeline: the wiring between the layers — samples in, the core's steps out, into sinks.

    collector (SampleBlocks) ──► live.LivePipeline ──► core.StreamingAnalyzer per sensor
                                      │
                                      └─► sinks: file_sink.FileSink (steps/status files),
                                                 influx.InfluxCollectSink (InfluxDB via the store)

Modules, one job each:

* :mod:`.records` — :class:`~.records.StepRecord` (a finished step with its identity and UTC
  time) and the :class:`~.records.Sink` protocol every live sink implements;
* :mod:`.live` — :class:`~.live.LivePipeline`: collector sessions → one analyzer per sensor →
  sinks, with per-step latency; it is the collector's block consumer (the collector only knows
  the protocol :class:`gaitmon.collector.consumer.BlockConsumer`; the command line wires the two);
* :mod:`.file_sink` — :class:`~.file_sink.FileSink`: the live session's steps CSV per runner and
  status files;
* :mod:`.influx` — the InfluxDB sinks (:class:`~.influx.InfluxCollectSink` live,
  :class:`~.influx.InfluxStepSink` for one analysed recording) and the loss verdict;
* :mod:`.sessions` — a session's tag and UTC start (shared by the InfluxDB sinks and the journal);
* :mod:`.step_files` — the steps table (CSV/JSON) and summary files of the one-shot commands;
* :mod:`.journal` — a runner's files-only history (the sink of analysed sessions without InfluxDB);
* :mod:`.single_leg` — the single-leg stance test's live acquisition and its result files/points.

Layering: the pipeline imports the collector, the core, the store, the simulator (virtual test
sensor) and the analysis statistics; it never imports :mod:`gaitmon.ui` or :mod:`gaitmon.cli`
(both sit above it). Nothing is imported here, so ``import gaitmon.pipeline.influx`` does not
load the analyzer.
"""
