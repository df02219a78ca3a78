import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


def send_update(text, source):
    """Sends one update to every Switchyard socket in the group "updates" (its consumer's `update_message` runs)."""
    async_to_sync(get_channel_layer().group_send)(
        "updates",
        {"type": "update.message", "text": text, "sentAt": time.time(), "source": source},
    )


# csrf_exempt only so the README's curl works; a real view posted from a page keeps Django's CSRF protection.
@csrf_exempt
@require_POST
def post_update(request):
    """POST /updates/ with a form field `text`: what a Django view does to push to the Node pages."""
    text = request.POST.get("text", "").strip() or "hello from a Django view"
    send_update(text[:500], source="a Django view")
    return JsonResponse({"sent": text[:500]})
