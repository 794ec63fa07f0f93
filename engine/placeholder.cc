namespace whoknows::engine {}
