"""Interface call (接口调用, M2) and data verification (数据核验, M3).

Two sides of one protocol:

* the **provider side** (``server``, ``store``, ``cli``): ``rongxin provider serve`` — a small
  standalone service a department deploys next to its own data files; it answers signed
  ``POST /query`` and ``POST /verify`` calls from the platform;
* the **platform side** (``client``, ``service``, ``api``): ``HttpProviderClient`` calls a
  department's service per request, citing the enterprise's authorization; ``POST
  /api/v1/verify`` lets an institution check claimed values (values never come back), and
  ``fetch_interface_records`` serves report assembly at query time without storing anything.
"""
