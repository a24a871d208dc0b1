"""The operations report: one static HTML page (reports/index.html) from the
run records (superstore_common.ops), the load ledger (superstore_common.loads)
and the published star schema. It opens without a server: plotly's JS is
inlined once and every chart's data is in the page."""
