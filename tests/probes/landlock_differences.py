"""What the Landlock jail cannot hold, probe by probe (issue 12). The probes run against it in the
stage of tests/run where a reproduced container (tests/container/as-container) refuses the
namespaces; each probe named here asserts, in that mode, the different outcome written here
instead of the namespace jail's (probe_helpers.differs). Nothing is skipped: a probe that is not
here must hold in both jails, and one that is here must show exactly this difference.

Key: the probe's test function name (unique across tests/probes).
Value: what differs, and why the Landlock jail cannot do otherwise."""

DIFFERENCES = {
}
