"""The dossier slice: one module per job.

* :mod:`~service.dossiers.submission` — lodging a dossier (``POST /dossiers``);
* :mod:`~service.dossiers.actions` — lifecycle actions: decide → effects → persist;
* :mod:`~service.dossiers.effects` — the named effects of actions and the table type they are composed into;
* :mod:`~service.dossiers.persist` — :func:`~service.dossiers.persist.persist`, the one function that writes a
  change (dossier row, notices, control-slip row) through a writer (the ORM, the ledger's batches, the bulk
  generator's rows);
* :mod:`~service.dossiers.slip` — the control slip's row builder, hash chain, history and verification;
* :mod:`~service.dossiers.numbering` — dossier codes and their daily sequences;
* :mod:`~service.dossiers.visibility` — who sees which dossier (404 otherwise);
* :mod:`~service.dossiers.queries` — the list, counts and the public lookup;
* :mod:`~service.dossiers.presenter` — the API representation.

The rules themselves (transition table, guards, required fields, notices) are pure, in
:mod:`service.domain.lifecycle`. Nothing in this package commits, and nothing in it imports FastAPI.
"""
