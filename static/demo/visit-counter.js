// Demo: a tag that ignores consent (the scanner flags it): an undeclared cookie set before any choice.
document.cookie = "_demo_visits=1; path=/; max-age=2592000; SameSite=Lax";
