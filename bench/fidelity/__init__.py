"""The fidelity harness: public suites written against the real services, run against the sandboxes."""
