// Demo: an analytics tag the banner runs only after consent to "performance"; its cookie is declared.
document.cookie = "_pa_id=demo." + Date.now() + "; path=/; max-age=31536000; SameSite=Lax";
