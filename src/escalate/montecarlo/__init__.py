"""Monte Carlo: seeding, running replications, streaming aggregation."""
