"""aga.runner"""
