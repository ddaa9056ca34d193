"""Views that answer first and hand their jobs to the queue once the response is sent.

A signed webhook's caller (Stripe) waits only for the stored row: the apply job's Redis round
trip, or an inline job without Redis, need not stand between the commit and the 200. Jobs the
view makes ready (app.jobs.queue: after its commit) are held, and handed over from the
response's close, which every WSGI server calls once the body is written (gunicorn after
sending it; Werkzeug's test client when a response is buffered or closed). With RQ they go to
the process's sender thread, so the request's thread is free at once (gunicorn gives a
keep-alive connection its next request only after the close); inline jobs run in the close.

Nothing is lost if the process dies in between: the committed row is the truth and reconcile
(every worker's start and periodic maintenance) enqueues each row whose job Redis does not hold.
If the view raises, its held jobs go at once, as before.
"""

from __future__ import annotations

from functools import partial, wraps

from flask import after_this_request

from app.jobs.queue import hand_over, held_jobs
from app.observability.logs import current_request_id


def jobs_after_response(view):
    @wraps(view)
    def answer_first(*args, **kwargs):
        with held_jobs() as held:
            rv = view(*args, **kwargs)
        if held:
            # On whichever response goes out (an error handler's too), so the jobs always go.
            after_this_request(partial(_hand_over_on_close, held, current_request_id.get()))
        return rv

    return answer_first


def _hand_over_on_close(held: list, request_id: str | None, response):
    response.call_on_close(partial(hand_over, held, request_id))
    return response
