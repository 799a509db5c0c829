import { Body, Controller, Post } from '@nestjs/common';
import { ApiProperty, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { OptionalNested, OptionalNestedArray, RequiredNested } from './dto';

class Child {
  @ApiProperty()
  name!: string;
}

class Parent {
  @RequiredNested(() => Child)
  required!: Child;

  @OptionalNested(() => Child)
  optional?: Child;

  @OptionalNestedArray(() => Child, 3)
  list?: Child[];
}

@Controller('parents')
class ParentsController {
  @Post()
  take(@Body() parent: Parent): Parent {
    return parent;
  }
}

describe('nested DTO decorators in the OpenAPI document', () => {
  it('reference the nested schema by its name (a lazy type Swagger recognises), never "#/components/schemas/"', async () => {
    const module = await Test.createTestingModule({ controllers: [ParentsController] }).compile();
    const app = module.createNestApplication({ logger: false });
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    await app.close();
    const parent = document.components?.schemas?.Parent as { properties: Record<string, unknown>; required?: string[] };
    expect(parent.properties.required).toEqual({ $ref: '#/components/schemas/Child' });
    expect(parent.properties.optional).toEqual({ $ref: '#/components/schemas/Child' });
    expect(parent.properties.list).toEqual({ type: 'array', maxItems: 3, items: { $ref: '#/components/schemas/Child' } });
    expect(parent.required).toEqual(['required']);
    expect(document.components?.schemas?.Child).toBeDefined();
  });
});
