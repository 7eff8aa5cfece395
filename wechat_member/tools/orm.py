"""What the ORM would do after a read, for rows the module inserts in SQL."""


def cache_inserted_row(record, values, skip=()):
    """Put ``record``, a row just inserted in SQL with the columns ``values`` (its other columns empty), in the
    cache as a read would fetch it: the row is not read back.  ``skip``: fields left to a read."""
    cache = record.env.cache
    for fname, field in record._fields.items():
        if field.store and field.column_type and field.prefetch is True and fname != "id" and fname not in skip:
            value = values.get(fname)
            # An empty column is None in the cache, as a read puts it (an integer's 0 is not empty).
            cache.insert_missing(record, field, [None if value is None else field.convert_to_cache(value, record)])
