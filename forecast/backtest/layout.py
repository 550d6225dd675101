"""Record layouts of the vector engine (vectorbt's `enums.py` habit): the numba kernel
(`kernel.py`) fills structured arrays of these dtypes field by field, and `vector.py`
reads them back by name, so no column is known only by its position.
"""

from __future__ import annotations

import numpy as np

# One executed order: the bar it filled at, signed size, average price, total fee.
FILL = np.dtype(
    [
        ("bar", np.int64),
        ("size", np.float64),
        ("price", np.float64),
        ("commission", np.float64),
    ],
    align=True,
)

# One trade (a position from opening to flat), backtrader's Trade plus what Recorder
# reads from the trade's history. One row per trade, in opening order.
TRADE = np.dtype(
    [
        ("open_bar", np.int64),  # bar of the first fill (-1 until then)
        ("last_bar", np.int64),  # bar of the latest fill (the exit bar of a closed trade)
        ("status", np.int64),  # backtrader's Trade status: 1 open, CLOSED
        ("long", np.bool_),  # the side it opened on
        ("size", np.float64),  # current signed size
        ("price", np.float64),  # average price of the position
        ("commission", np.float64),  # fees so far
        ("pnl", np.float64),  # realised P&L before fees
        ("pnl_net", np.float64),  # realised P&L after fees (backtrader's pnlcomm)
        ("max_size", np.float64),  # largest |size| it reached
        ("grown", np.float64),  # shares of the fills that grew it ...
        ("grown_value", np.float64),  # ... and their value (shares x price)
        ("shrunk", np.float64),  # shares of the fills that shrank it ...
        ("shrunk_value", np.float64),  # ... and their value
        ("closed", np.bool_),  # whether its latest fill closed it
    ],
    align=True,
)

CLOSED = 2  # backtrader's Trade.Closed status
