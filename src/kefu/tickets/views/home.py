from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse


def home(request):
    """Signed-in users go to their inbox; visitors see the sign-in prompt and the API links."""
    if request.user.is_authenticated:
        try:
            return redirect(reverse("inbox"))
        except NoReverseMatch:
            pass
    return render(request, "tickets/home.html")


urlpatterns = [path("", home, name="home")]
