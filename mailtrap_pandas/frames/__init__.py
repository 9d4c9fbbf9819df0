"""Pure conversion, never the network: the type table (``dtypes``), THE email key and email
normalization (``emails``), lossless coercion (``coerce``, over the Arrow plumbing in ``columns``),
the ``Reason`` family (``reasons``), fields -> pandera (``schema``), row checks (``validate``),
frames -> JSON bodies (``encode``), the export/CSV parser (``reader``) and the user's files
(``files``).
"""
