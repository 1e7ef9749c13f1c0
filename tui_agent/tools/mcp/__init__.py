"""MCP servers as tools: `.mcp.json` configuration, the client manager, result helpers."""
