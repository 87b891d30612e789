"""Operations on an investigation's stack (one row per request, run in order) and their event stream."""
