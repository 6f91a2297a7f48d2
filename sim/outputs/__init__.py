"""From replication outcomes to what people read: statistics over replications, tidy tables,
results folders written atomically, observed series, figures and the HTML report."""
