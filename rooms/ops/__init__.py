"""What operators watch: `/healthz` for load balancers (`health`), every
Prometheus metric of a worker (`metrics`) and the `/metrics` page that
serves them (`views`)."""
