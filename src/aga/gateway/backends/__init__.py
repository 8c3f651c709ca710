"""aga.gateway.backends"""
