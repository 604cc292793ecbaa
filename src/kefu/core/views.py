from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from kefu.core import clock
from kefu.core.models import WorkerHeartbeat


@require_GET
def healthz(request):
    """Liveness for load balancers and operators: database reachable, worker last seen."""
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    hb = WorkerHeartbeat.objects.filter(name="worker").first()
    age = (clock.now() - hb.seen_at).total_seconds() if hb else None
    return JsonResponse(
        {
            "status": "ok",
            "database": connection.vendor,
            "worker_seen_seconds_ago": round(age) if age is not None else None,
        }
    )
