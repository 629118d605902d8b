"""Where blocking work runs: bounded thread pools in this process (``threads``) or, with PostgreSQL,
``python -m bot worker`` processes on any machine through a job queue (``queue``); what both refuse
(``errors``)."""
