// relay's metrics, as text for Prometheus: `relayctl status --prometheus`
// prints it, and relay-deliver writes it to metrics_file after each run
// for node_exporter's textfile collector. The one owner of the metric
// names; relay.conf(5) lists them.
//
// The format is the Prometheus text exposition format, version 0.0.4:
// "# HELP" and "# TYPE" lines, then "name{label="value"} number" samples,
// the form `promtool check metrics` and the textfile collector parse (the
// OpenMetrics variant names counter families without "_total" and ends
// with "# EOF", which both of them refuse or ignore). Label values have
// '\', '"' and newlines escaped; times are seconds since the epoch, with
// microseconds; a family with no sample is left out.
#ifndef RELAY_QUEUE_METRICS_H_
#define RELAY_QUEUE_METRICS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "relay/base/status.h"
#include "relay/queue/health.h"
#include "relay/queue/queue_summary.h"

namespace relay {

// The text for health (the smarthosts it lists, in its order: see
// KeepHosts) and the spool's summary, as of now_micros. Pure.
std::string EncodeMetrics(const Health& health, const QueueSummary& queue, int64_t now_micros);

// A label value between its double quotes: '\' -> "\\", '"' -> "\"",
// LF and CR -> "\n", so that a sample stays on one line.
std::string EscapeLabelValue(std::string_view value);

// Seconds since the epoch for a time in micros: "1700000000.123456";
// "0" for 0.
std::string TimestampSeconds(int64_t micros);

// Replaces path with text atomically (temp beside it, fsync, rename),
// mode 0644: the collector reads it as another user. A TempFail naming
// the file when it cannot be written.
Status WriteMetricsFile(const std::string& path, std::string_view text);

}  // namespace relay

#endif  // RELAY_QUEUE_METRICS_H_
