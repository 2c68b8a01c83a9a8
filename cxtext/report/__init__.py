"""HTML report of the ranked pain points (design card: ``report/``)."""
