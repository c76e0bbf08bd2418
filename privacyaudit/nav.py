def items(request):
    return []
