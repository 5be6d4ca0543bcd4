def merchant(request):
    return {"merchant": getattr(request, "merchant", None)}
